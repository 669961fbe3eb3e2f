import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, type ConfigChanges } from '../../src/image/changes.js';

test('--change applies Dockerfile config instructions as Docker does', () => {
  const c = applyChanges<ConfigChanges>({ Env: ['PATH=/bin', 'A=1'] }, [
    'CMD ["sh"]', 'ENTRYPOINT echo hi', 'ENV A=2 B="two words"', 'ENV C 3', 'LABEL team=core',
    'EXPOSE 80 53/udp', 'VOLUME /data', 'USER app:app', 'WORKDIR /srv', 'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=3']);
  assert.deepEqual(c.Labels, { team: 'core' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.User, 'app:app');
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.StopSignal, 'SIGINT');
});

test('bad --change values are clear errors', () => {
  assert.throws(() => applyChanges({}, ['RUN make']), /RUN is not supported/);
  assert.throws(() => applyChanges({}, ['CMD ["sh"']), /not a valid JSON array/);
  assert.throws(() => applyChanges({}, ['EXPOSE http']), /invalid port "http"/);
  assert.throws(() => applyChanges({}, ['CMD']), /expected INSTRUCTION ARGUMENTS/);
});
