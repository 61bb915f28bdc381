// The tray icon images, checked by decoding the PNGs and the .ico files and reading their pixels: the
// state's colour, the glyph, and the queue count read back off the icon against hand-drawn expectations.
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  BADGE_COLORS, countFontScale, countLabel, renderTrayIcon, renderTrayIconSet, TRAY_COLORS, TRAY_ICON_SIZES,
  TRAY_ICON_STATES, type Rgb,
} from '../src/tray/badge.js';
import { packIco } from '../src/tray/ico.js';
import { TrayIcoFile } from '../src/tray/ico-file.js';
import { APP_ICON_SIZES, COMMITTED_IMAGES, renderAppIcon } from '../src/tray/images.js';

type Rgba = [number, number, number, number];

function pixel(img: PNG, x: number, y: number): Rgba {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)] as Rgba;
}

const is = (p: Rgba, c: Rgb) => p[0] === c[0] && p[1] === c[1] && p[2] === c[2] && p[3] === 255;

function find(img: PNG, color: Rgb): [number, number][] {
  const found: [number, number][] = [];
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) if (is(pixel(img, x, y), color)) found.push([x, y]);
  return found;
}

const box = (pts: [number, number][]) => ({
  x0: Math.min(...pts.map((p) => p[0])), x1: Math.max(...pts.map((p) => p[0])),
  y0: Math.min(...pts.map((p) => p[1])), y1: Math.max(...pts.map((p) => p[1])),
});

/**
 * Reads the number off an amber ("deferred") icon, whose glyph is dark, so its only white pixels
 * are the digits. Returns the text as rows of '#' and '.' in font pixels, or null without a pill.
 */
function readCount(img: PNG, scale: number): string[] | null {
  const pill = find(img, BADGE_COLORS.fill);
  if (pill.length === 0) return null;
  const text = new Set(find(img, BADGE_COLORS.text).map(([x, y]) => `${x},${y}`));
  const t = box([...text].map((k) => k.split(',').map(Number) as [number, number]));
  const p = box(pill);
  expect(t.x0 > p.x0 && t.x1 < p.x1 && t.y0 > p.y0 && t.y1 < p.y1, 'text inside the pill').toBe(true);
  expect(Math.abs((t.x0 - p.x0) - (p.x1 - t.x1)), 'text centred in the pill').toBeLessThanOrEqual(1);
  const rows: string[] = [];
  for (let y = t.y0; y <= t.y1; y += scale) {
    let row = '';
    for (let x = t.x0; x <= t.x1; x += scale) {
      // Each font pixel must be a solid scale x scale block.
      const block = Array.from({ length: scale * scale }, (_, i) => text.has(`${x + (i % scale)},${y + Math.floor(i / scale)}`));
      expect(new Set(block).size, `font pixel at ${x},${y} is not a solid block`).toBe(1);
      row += block[0] ? '#' : '.';
    }
    rows.push(row);
  }
  return rows;
}

// Drawn here by hand, independently of src/tray/font.ts.
const ART: Record<string, string[]> = {
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '9': ['###', '#.#', '###', '..#', '###'],
  '10': ['.#..###', '##..#.#', '.#..#.#', '.#..#.#', '###.###'],
  '99': ['###.###', '#.#.#.#', '###.###', '..#...#', '###.###'],
  '99+': ['###.###....', '#.#.#.#..#.', '###.###.###', '..#...#..#.', '###.###....'],
};

const COUNTS: [number, string | null][] = [[0, null], [1, '1'], [9, '9'], [10, '10'], [99, '99'], [100, '99+']];

describe('tray badge: countLabel', () => {
  it('shows nothing for an empty queue, the number up to 99, then 99+', () => {
    expect(COUNTS.map(([n]) => countLabel(n))).toEqual(COUNTS.map(([, label]) => label));
    expect(countLabel(100_000)).toBe('99+');
    expect(countLabel(-1)).toBeNull();
    expect(countLabel(Number.NaN)).toBeNull();
  });
});

describe('tray badge: images', () => {
  for (const size of TRAY_ICON_SIZES) {
    it(`the count read back off the icon at ${size} px: nothing, 1, 9, 10, 99, 99+`, () => {
      expect(find(PNG.sync.read(renderTrayIcon('deferred', 0, size)), BADGE_COLORS.text)).toEqual([]);
      for (const [queued, label] of COUNTS) {
        const read = readCount(PNG.sync.read(renderTrayIcon('deferred', queued, size)), countFontScale(size));
        expect(read, `count ${queued}`).toEqual(label === null ? null : ART[label]);
      }
    });

    for (const state of TRAY_ICON_STATES) {
      it(`${state} at ${size} px: its colour, transparent corners, and the same count pill as above for 0, 1, 9, 10, 99, 100`, () => {
        for (const [queued] of COUNTS) {
          const img = PNG.sync.read(renderTrayIcon(state, queued, size));
          const reference = PNG.sync.read(renderTrayIcon('deferred', queued, size));
          expect([img.width, img.height]).toEqual([size, size]);
          expect(pixel(img, 0, 0)[3], 'rounded corner is transparent').toBe(0);
          expect(is(pixel(img, 1, size >> 1), TRAY_COLORS[state].fill), `fill colour of ${state}`).toBe(true);
          const pill = find(img, BADGE_COLORS.fill);
          expect(pill.length > 0, `a pill exactly when something is queued (${queued})`).toBe(queued > 0);
          // Every solid pill or digit pixel of the reference is the same here: the glyph never shows through.
          for (const [x, y] of [...find(reference, BADGE_COLORS.fill), ...find(reference, BADGE_COLORS.text)]) {
            expect(pixel(img, x, y), `pixel ${x},${y}`).toEqual(pixel(reference, x, y));
          }
          expect(pill.length).toBe(find(reference, BADGE_COLORS.fill).length);
        }
      });
    }
  }

  it('the count font doubles at 28 px, triples at 40 px, and the widest label fits inside the icon', () => {
    expect(TRAY_ICON_SIZES.map(countFontScale)).toEqual([1, 1, 1, 2, 2, 2, 3, 3]);
    for (const size of TRAY_ICON_SIZES) {
      const pill = box(find(PNG.sync.read(renderTrayIcon('deferred', 100, size)), BADGE_COLORS.fill));
      expect(pill.x0 >= 0 && pill.x1 < size && pill.y1 < size).toBe(true);
      expect(pill.x1 - pill.x0 + 1).toBe(13 * countFontScale(size));
    }
  });

  it('every state looks different from every other one, at every size', () => {
    for (const size of TRAY_ICON_SIZES) {
      const images = TRAY_ICON_STATES.map((s) => renderTrayIcon(s, 0, size).toString('base64'));
      expect(new Set(images).size).toBe(TRAY_ICON_STATES.length);
    }
  });

  it('glyphs: "!" for error, two bars for paused, a square for stopped, an envelope otherwise', () => {
    const s = 32;
    const at = (state: (typeof TRAY_ICON_STATES)[number], x: number, y: number) => pixel(PNG.sync.read(renderTrayIcon(state, 0, s)), x, y);
    const white: Rgb = [255, 255, 255];
    // "!": a bar down the middle, a gap, then the dot.
    expect(is(at('error', 16, 10), white) && !is(at('error', 16, 20), white) && is(at('error', 16, 23), white)).toBe(true);
    // Pause: bars left and right of the centre, the centre itself the fill colour.
    expect(is(at('paused', 12, 16), white) && is(at('paused', 20, 16), white) && is(at('paused', 16, 16), TRAY_COLORS.paused.fill)).toBe(true);
    // Stop: a filled square in the middle.
    expect(is(at('stopped', 16, 16), white) && is(at('stopped', 13, 13), white)).toBe(true);
    // Envelope: the outline's left edge and the flap's apex, hollow inside.
    for (const state of ['idle', 'sending', 'deferred'] as const) {
      const glyph = TRAY_COLORS[state].glyph;
      expect(is(at(state, 6, 16), glyph) && is(at(state, 16, 16), glyph) && is(at(state, 16, 20), TRAY_COLORS[state].fill), state).toBe(true);
    }
  });

  it('a set has one PNG per Windows DPI step from 100 to 300 %, with its scale factor', () => {
    const set = renderTrayIconSet('deferred', 12).representations;
    expect(set.map((i) => [i.size, i.scaleFactor])).toEqual([[16, 1], [20, 1.25], [24, 1.5], [28, 1.75], [32, 2], [36, 2.25], [40, 2.5], [48, 3]]);
    for (const { size, png } of set) expect(PNG.sync.read(png).width).toBe(size);
  });

  it('is deterministic, so unchanged images are never redrawn or recommitted', () => {
    expect(renderTrayIcon('error', 42, 24).equals(renderTrayIcon('error', 42, 24))).toBe(true);
  });
});

/** One image of an .ico, decoded to top-down RGBA whatever its storage (32-bit BMP or PNG). */
interface IcoEntry { size: number; bits: number; planes: number; format: 'bmp' | 'png'; image: PNG }

/** Parses an .ico byte by byte (ICONDIR, ICONDIRENTRY, BITMAPINFOHEADER, XOR and AND masks). */
function readIco(buf: Buffer): IcoEntry[] {
  expect([buf.readUInt16LE(0), buf.readUInt16LE(2)], 'reserved 0, type 1 (icon)').toEqual([0, 1]);
  const n = buf.readUInt16LE(4);
  let expectedOffset = 6 + 16 * n;
  return Array.from({ length: n }, (_, i) => {
    const e = 6 + 16 * i;
    const size = buf[e] || 256;
    expect(buf[e + 1] || 256, 'square').toBe(size);
    const [len, off] = [buf.readUInt32LE(e + 8), buf.readUInt32LE(e + 12)];
    expect(off).toBe(expectedOffset);
    expectedOffset += len;
    const body = buf.subarray(off, off + len);
    const entry = { size, bits: buf.readUInt16LE(e + 6), planes: buf.readUInt16LE(e + 4) };
    if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { ...entry, format: 'png', image: PNG.sync.read(body) };
    // BITMAPINFOHEADER: 40 bytes, width, height doubled (colour + mask), 1 plane, 32 bpp, BI_RGB.
    expect([body.readUInt32LE(0), body.readInt32LE(4), body.readInt32LE(8), body.readUInt16LE(12), body.readUInt16LE(14), body.readUInt32LE(16)])
      .toEqual([40, size, 2 * size, 1, 32, 0]);
    const maskRow = Math.ceil(size / 32) * 4;
    expect(body.length).toBe(40 + size * size * 4 + maskRow * size);
    const image = new PNG({ width: size, height: size });
    for (let y = 0; y < size; y++) {
      const row = size - 1 - y; // stored bottom-up
      for (let x = 0; x < size; x++) {
        const p = 40 + (row * size + x) * 4;
        const [b, g, r, a] = body.subarray(p, p + 4);
        image.data.set([r as number, g as number, b as number, a as number], (y * size + x) * 4);
        const masked = ((body[40 + size * size * 4 + row * maskRow + (x >> 3)] as number) >> (7 - (x & 7))) & 1;
        expect(masked, `AND mask at ${x},${y} (${size} px) marks exactly the transparent pixels`).toBe(a === 0 ? 1 : 0);
      }
    }
    return { ...entry, format: 'bmp', image };
  });
}

describe('tray badge: the tray icon as an .ico (what Windows loads)', () => {
  it('holds every small-icon size from 100 to 300 % scaling, each 32-bit with alpha and drawn at that size', () => {
    for (const [state, queued] of [['deferred', 100], ['idle', 0], ['error', 7], ['paused', 42]] as const) {
      const entries = readIco(renderTrayIconSet(state, queued).ico);
      expect(entries.map((e) => e.size)).toEqual([16, 20, 24, 28, 32, 36, 40, 48]);
      for (const e of entries) {
        expect([e.format, e.bits, e.planes], `${state} ${e.size} px`).toEqual(['bmp', 32, 1]);
        // Pixel for pixel the drawing made for this size (not another size scaled).
        expect(e.image.data.equals(PNG.sync.read(renderTrayIcon(state, queued, e.size)).data), `${state} ${e.size} px`).toBe(true);
        const alphas = new Set(Array.from({ length: e.size * e.size }, (_, i) => e.image.data[i * 4 + 3]));
        expect([alphas.has(0), alphas.has(255), [...alphas].some((a) => a! > 0 && a! < 255)], 'transparent, opaque and anti-aliased edges').toEqual([true, true, true]);
      }
    }
  });

  it('the count read back off every size in the .ico: nothing, 1, 9, 10, 99, 99+', () => {
    for (const [queued, label] of COUNTS) {
      for (const e of readIco(renderTrayIconSet('deferred', queued).ico)) {
        expect(readCount(e.image, countFontScale(e.size)), `count ${queued} at ${e.size} px`).toEqual(label === null ? null : ART[label]);
      }
    }
  });

  it('is written to a private file whose path the tray is given, the same path each time, removed afterwards', () => {
    const file = new TrayIcoFile();
    const first = renderTrayIconSet('idle', 0).ico;
    const second = renderTrayIconSet('deferred', 5).ico;
    const where = file.write(first);
    expect(where).toMatch(/smtp-relay-tray-[^/\\]+[/\\]tray\.ico$/);
    expect(fs.readFileSync(where).equals(first)).toBe(true);
    if (process.platform !== 'win32') expect(fs.statSync(path.dirname(where)).mode & 0o077, 'no access for others').toBe(0);
    expect(file.write(second)).toBe(where);
    expect(fs.readFileSync(where).equals(second)).toBe(true);
    file.remove();
    expect(fs.existsSync(path.dirname(where))).toBe(false);
  });
});

describe('tray badge: the app icon .ico', () => {
  it('holds the tray sizes, then 64 and 256 px; 256 as PNG, the others as 32-bit BMPs', () => {
    const entries = readIco(renderAppIcon());
    expect(entries.map((e) => e.size)).toEqual([...APP_ICON_SIZES]);
    expect(APP_ICON_SIZES).toEqual([16, 20, 24, 28, 32, 36, 40, 48, 64, 256]);
    for (const e of entries) {
      expect([e.image.width, e.image.height, e.bits, e.format]).toEqual([e.size, e.size, 32, e.size === 256 ? 'png' : 'bmp']);
      expect(e.image.data.equals(PNG.sync.read(renderTrayIcon('idle', 0, e.size)).data)).toBe(true);
    }
  });

  it('refuses sizes an .ico cannot describe', () => {
    expect(() => packIco([])).toThrow();
    expect(() => packIco([{ size: 300, png: renderTrayIcon('idle', 0, 16) }])).toThrow(/1 to 256/);
    expect(() => packIco([{ size: 20, png: renderTrayIcon('idle', 0, 16) }])).toThrow(/an \.ico entry of 20 px holds a 16×16 image/);
  });
});

describe('tray badge: committed images', () => {
  it('docs/ and build/ hold exactly what the code draws now (regenerate with `npm run tray-images`)', () => {
    for (const [file, render] of Object.entries(COMMITTED_IMAGES)) {
      const committed = fs.readFileSync(path.join(import.meta.dirname, '..', file));
      expect(committed.equals(render()), `${file} is stale: run npm run tray-images`).toBe(true);
    }
  });
});
