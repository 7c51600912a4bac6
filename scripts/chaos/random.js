// A seeded PRNG (mulberry32), so that a run can be repeated from the seed it printed.

export function createRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    /** an integer in [lo, hi] */
    int,
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** a key of `weights` ({ key: weight }), chosen in proportion to its weight */
    weighted(weights) {
      const entries = Object.entries(weights).filter(([, w]) => w > 0);
      let r = next() * entries.reduce((s, [, w]) => s + w, 0);
      for (const [key, w] of entries) if ((r -= w) < 0) return key;
      return entries.at(-1)[0];
    },
    bytes(n) {
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i++) buf[i] = Math.floor(next() * 256);
      return buf;
    },
    hex: (chars) => Array.from({ length: chars }, () => "0123456789abcdef"[Math.floor(next() * 16)]).join(""),
  };
}
