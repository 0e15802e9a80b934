import packageJson from '../../package.json';
import type { AttentionDevice } from '../gpu/device.js';
import type { Ceilings } from './roofline.js';
import type { ResultsContext } from './schema.js';

export const TOOL = { name: packageJson.name, version: packageJson.version };

/** Describes the machine and device a set of results came from. */
export function resultsContext(
  gpu: AttentionDevice,
  extra: { gitCommit?: string | null; notes?: string[]; date?: Date; ceilings?: Ceilings } = {},
): ResultsContext {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return {
    date: (extra.date ?? new Date()).toISOString(),
    tool: TOOL,
    gitCommit: extra.gitCommit ?? null,
    runtime: gpu.runtime,
    userAgent: gpu.runtime === 'browser' ? (nav?.userAgent ?? null) : `node ${globalThis.process?.version ?? ''}`.trim(),
    adapter: { ...gpu.adapter },
    features: [...gpu.caps.features],
    limits: { ...gpu.caps.limits },
    timestampMethod: gpu.caps.features.includes('timestamp-query') ? 'timestamp-query' : 'wall',
    notes: [...gpu.notes, ...(extra.notes ?? [])],
    ...(extra.ceilings ? { ceilings: extra.ceilings } : {}),
  };
}
