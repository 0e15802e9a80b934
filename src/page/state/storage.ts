import { type ResultRecord, type ResultsContext, type ResultsFile, makeResultsFile, parseResultsFile } from '../../results/schema.js';
import { type StoredView, parseStoredView, serializeStoredView } from './view.js';

/** The part of Web Storage the page uses, so tests can pass a Map-backed one. */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Versioned keys: a future page with another layout reads under a new key instead of misreading this one. */
export const RESULTS_KEY = 'webgpu-attention-playground/results/v1';
export const BASELINE_KEY = 'webgpu-attention-playground/baseline/v1';
/** The configuration as its query string (the URL codec's), so a reload on a bare URL shows the shape the results were run with. */
export const CONFIG_KEY = 'webgpu-attention-playground/config/v2';
/** The baseline's file name, apart, so that the baseline itself stays a plain results file. */
export const BASELINE_NAME_KEY = 'webgpu-attention-playground/baseline-name/v1';
/** The view choices that name kept rows (the cross-family comparison, the roofline's source): view.ts says why here and not in the URL. */
export const VIEW_KEY = 'webgpu-attention-playground/view/v1';

export interface StoredState {
  /** Results with the context of the device that made them (the results-file format itself). */
  results: ResultsFile | null;
  baseline: ResultsFile | null;
  /** Where the baseline came from (its file name). */
  baselineName: string | null;
  /** Why something stored could not be read; it is then dropped rather than half-trusted. */
  problems: string[];
}

/**
 * Reads kept results and baseline. Both are stored as results files and validated with the same
 * schema as an import, so a corrupt or outdated entry is reported and removed, never rendered.
 */
export function loadStored(store: KeyValueStore): StoredState {
  const problems: string[] = [];
  const read = (key: string, what: string): ResultsFile | null => {
    const text = store.getItem(key);
    if (text === null) return null;
    try {
      return parseResultsFile(text);
    } catch (error) {
      problems.push(`Discarded the kept ${what}, which could not be read: ${(error as Error).message}`);
      store.removeItem(key);
      return null;
    }
  };
  const results = read(RESULTS_KEY, 'results');
  const baseline = read(BASELINE_KEY, 'baseline');
  const baselineName = baseline ? (store.getItem(BASELINE_NAME_KEY) ?? 'kept baseline') : null;
  return { results, baseline, baselineName, problems };
}

/** Keeps results; returns why it could not (storage full or disabled) instead of throwing. */
export function saveResults(store: KeyValueStore, context: ResultsContext | null, results: readonly ResultRecord[]): string | null {
  if (results.length === 0 || !context) return remove(store, RESULTS_KEY);
  return write(store, RESULTS_KEY, makeResultsFile(context, [...results]));
}

export function saveBaseline(store: KeyValueStore, baseline: ResultsFile | null, name: string | null = null): string | null {
  if (!baseline) return remove(store, BASELINE_NAME_KEY) ?? remove(store, BASELINE_KEY);
  const problem = write(store, BASELINE_KEY, baseline);
  if (problem || name === null) return problem;
  try {
    store.setItem(BASELINE_NAME_KEY, name);
    return null;
  } catch (error) {
    return `The baseline's name could not be kept: ${(error as Error).message}`;
  }
}

function write(store: KeyValueStore, key: string, file: ResultsFile): string | null {
  try {
    store.setItem(key, JSON.stringify(file));
    return null;
  } catch (error) {
    return `Results could not be kept in local storage (${(error as Error).message}); export them to keep them.`;
  }
}

function remove(store: KeyValueStore, key: string): string | null {
  try {
    store.removeItem(key);
    return null;
  } catch (error) {
    return `Local storage refused to clear ${key}: ${(error as Error).message}`;
  }
}

/** The kept configuration's query string, or null. */
export function loadConfigSearch(store: KeyValueStore): string | null {
  try {
    return store.getItem(CONFIG_KEY);
  } catch {
    return null;
  }
}

export function saveConfigSearch(store: KeyValueStore, search: string): void {
  try {
    store.setItem(CONFIG_KEY, search);
  } catch {
    // Storage full or disabled: the URL still holds the configuration.
  }
}

/** The kept view choices; what is missing or unreadable keeps its default (view.ts). */
export function loadView(store: KeyValueStore): StoredView {
  try {
    return parseStoredView(store.getItem(VIEW_KEY));
  } catch {
    return parseStoredView(null);
  }
}

export function saveView(store: KeyValueStore, view: StoredView): void {
  try {
    store.setItem(VIEW_KEY, serializeStoredView(view));
  } catch {
    // Storage full or disabled: the choices last until the page is closed.
  }
}
