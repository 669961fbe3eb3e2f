// Container names as Docker makes them when none is given: adjective_surname,
// after scientists and engineers.
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'clever', 'compassionate', 'dazzling', 'eager',
  'elegant', 'epic', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly',
  'keen', 'kind', 'loving', 'modest', 'nifty', 'objective', 'peaceful', 'quirky', 'relaxed', 'serene',
  'sharp', 'stoic', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly', 'zealous',
];
const SURNAMES = [
  'albattani', 'babbage', 'bell', 'cerf', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'feynman',
  'goldberg', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kare', 'knuth', 'lamarr', 'liskov', 'lovelace',
  'mccarthy', 'meitner', 'noether', 'pike', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak',
];

export function randomName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
}
