// The view choices a reload keeps: the plots' x axis and metric in the URL, the cross-family
// comparison and the roofline's source in local storage. Each round-trips, a bare URL restores the
// kept query, and a value that cannot be read is ignored with the page left at its defaults.
import { describe, expect, it } from 'vitest';
import { PlaygroundController } from '../src/page/app/controller.js';
import { DEFAULT_CONFIG, defaultConfig } from '../src/page/state/config.js';
import { CONFIG_KEY, type KeyValueStore, VIEW_KEY, loadView, saveView } from '../src/page/state/storage.js';
import { decodePlotView, decodeSearch, encodeConfig, encodeSearch } from '../src/page/state/url.js';
import { DEFAULT_PLOT_VIEW, DEFAULT_STORED_VIEW, type StoredView, VIEW_LIMITS, parseStoredView } from '../src/page/state/view.js';

const memoryStore = (): KeyValueStore & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
};

describe('plots view in the URL', () => {
  it('round-trips x axis and metric after the configuration, by the field’s URL key', () => {
    const search = encodeSearch(DEFAULT_CONFIG, { x: 'headDim', metric: 'gbps' });
    expect(search).toBe(`${encodeConfig(DEFAULT_CONFIG)}&x=d&y=gbps`);
    expect(decodeSearch(search)).toEqual({ config: DEFAULT_CONFIG, view: { x: 'headDim', metric: 'gbps' }, notes: [] });
    const mla = defaultConfig('mla');
    const mlaSearch = encodeSearch(mla, { x: 'kvLora', metric: 'tflops' });
    expect(mlaSearch).toMatch(/&x=kvl&y=tflops$/);
    expect(decodeSearch(mlaSearch).view).toEqual({ x: 'kvLora', metric: 'tflops' });
  });

  it('writes nothing for the default view, and leaves out an x the family lacks', () => {
    expect(encodeSearch(DEFAULT_CONFIG, DEFAULT_PLOT_VIEW)).toBe(encodeConfig(DEFAULT_CONFIG));
    expect(encodeSearch(DEFAULT_CONFIG, { x: 'kvLora', metric: null })).toBe(encodeConfig(DEFAULT_CONFIG));
    expect(decodeSearch('').view).toEqual(DEFAULT_PLOT_VIEW);
  });

  it('ignores values it cannot use, with a note each, and keeps the rest of the link', () => {
    const { config, view, notes } = decodeSearch('?h=4&x=zz&y=watts');
    expect(config.shape.heads).toBe(4);
    expect(view).toEqual(DEFAULT_PLOT_VIEW);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^x=zz: the plots' x axis takes .*\bd\b.* for dense; ignored$/);
    expect(notes[1]).toBe("y=watts: the plots' metric takes ms, tflops, gbps; ignored");
    // A field of another family (kvLora's kvl) or a flag (causal) is not an x axis for dense.
    expect(decodePlotView('?x=kvl', DEFAULT_CONFIG).view.x).toBeNull();
    expect(decodePlotView('?x=causal', DEFAULT_CONFIG).view.x).toBeNull();
    expect(decodePlotView('?x=&y=', DEFAULT_CONFIG).notes).toHaveLength(2);
  });
});

describe('comparison and roofline view in local storage', () => {
  const view: StoredView = {
    compare: { ticked: ['imported/dense/flash', 'results/window/window-flash'], reference: 'imported/dense/flash|[true,[]]', dims: '1|16|128' },
    roofline: 'file',
  };

  it('round-trips through the store', () => {
    const store = memoryStore();
    expect(loadView(store)).toEqual(DEFAULT_STORED_VIEW);
    saveView(store, view);
    expect(store.map.has(VIEW_KEY)).toBe(true);
    expect(loadView(store)).toEqual(view);
  });

  it('ignores each unreadable part on its own, never throwing', () => {
    for (const text of ['', 'not json', 'null', '42', '"x"', '[]', '{}']) expect(parseStoredView(text), text).toEqual(DEFAULT_STORED_VIEW);
    expect(parseStoredView(JSON.stringify({ ...view, roofline: 'gpu' }))).toEqual({ ...view, roofline: null });
    expect(parseStoredView(JSON.stringify({ compare: { ...view.compare, reference: 7, dims: '' }, roofline: 'page' }))).toEqual({
      compare: { ticked: view.compare.ticked, reference: null, dims: null },
      roofline: 'page',
    });
    const ticked = ['a', 3, null, 'a', 'x'.repeat(VIEW_LIMITS.keyLength + 1), ...Array.from({ length: 300 }, (_, i) => `k${i}`)];
    const parsed = parseStoredView(JSON.stringify({ compare: { ticked } }));
    expect(parsed.compare.ticked[0]).toBe('a');
    expect(parsed.compare.ticked[1]).toBe('k0');
    expect(parsed.compare.ticked).toHaveLength(VIEW_LIMITS.ticked);
    const broken: KeyValueStore = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
      removeItem: () => {},
    };
    expect(loadView(broken)).toEqual(DEFAULT_STORED_VIEW);
    expect(() => saveView(broken, view)).not.toThrow();
  });
});

describe('the controller keeps every choice across a reload', () => {
  const host = { addController() {}, removeController() {}, requestUpdate() {}, updateComplete: Promise.resolve(true) };
  const open = (store: KeyValueStore, search: string) => {
    let url = search;
    const ctl = new PlaygroundController(host, { storage: store, getSearch: () => search, setSearch: (s) => (url = s) });
    return { ctl, url: () => url };
  };

  it('restores the plots view from the URL (or the kept query on a bare URL) and the rest from storage', () => {
    const store = memoryStore();
    const first = open(store, '?f=dense&d=64');
    first.ctl.setPlotView({ x: 'headDim', metric: 'tflops' });
    first.ctl.setCompareView({ ticked: ['results/dense/flash'], reference: 'results/dense/flash|[false,[]]', dims: '1|8|64' });
    first.ctl.setRooflineChoice('file');
    expect(first.url()).toMatch(/&x=d&y=tflops$/);
    expect(store.map.get(CONFIG_KEY)).toBe(first.url());

    for (const search of [first.url(), '']) {
      const again = open(store, search).ctl;
      expect(again.plotView, search).toEqual({ x: 'headDim', metric: 'tflops' });
      expect(again.storedView).toEqual({
        compare: { ticked: ['results/dense/flash'], reference: 'results/dense/flash|[false,[]]', dims: '1|8|64' },
        roofline: 'file',
      });
      expect(again.urlNotes).toEqual([]);
    }
    // A link with its own query wins over the kept one: no view there, the default view.
    expect(open(store, '?f=dense').ctl.plotView).toEqual(DEFAULT_PLOT_VIEW);
  });

  it('opens usable on a link with bad view values and a corrupt stored view', () => {
    const store = memoryStore();
    store.setItem(VIEW_KEY, '{"compare":{"ticked":"all"},"roofline":1}');
    const { ctl } = open(store, '?x=nope&y=1');
    expect(ctl.plotView).toEqual(DEFAULT_PLOT_VIEW);
    expect(ctl.storedView).toEqual(DEFAULT_STORED_VIEW);
    expect(ctl.urlNotes).toHaveLength(2);
    expect(ctl.config).toEqual(DEFAULT_CONFIG);
  });
});
