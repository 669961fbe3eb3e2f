// Container records as the engine keeps them in the embedded store, and the
// Docker-shaped summary `ps` shows. (The full lifecycle — detached
// containers, restart policies — builds on these records.)
import type { Engine } from './engine.js';

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  command: string;
  created: string;
  status: 'created' | 'running' | 'exited';
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

interface ContainerRow {
  id: string; name: string; image: string; created: string; config: string; status: string;
  exit_code: number | null; started_at: string | null; finished_at: string | null;
}

export function listContainers(engine: Engine): ContainerSummary[] {
  const rows = engine.db.prepare('SELECT * FROM containers ORDER BY created DESC').all() as ContainerRow[];
  return rows.map((r) => {
    const config = JSON.parse(r.config) as { args?: string[] };
    return {
      id: r.id,
      name: r.name,
      image: r.image,
      command: (config.args ?? []).join(' '),
      created: r.created,
      status: r.status as ContainerSummary['status'],
      exitCode: r.exit_code,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    };
  });
}
