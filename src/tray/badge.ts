// The tray icon images: a rounded square in the state's colour with a glyph, and the number of
// queued messages in a dark pill at the bottom right. Pure (state, count, size) -> PNG, drawn anew at
// each size (never scaled), so the same function feeds the tray at every Windows DPI step, the
// committed README images and the app icon.
import { PNG } from 'pngjs';
import { forEachTextPixel, GLYPH_HEIGHT, textWidth } from './font.js';
import { packIco } from './ico.js';

export type TrayIconState = 'idle' | 'sending' | 'deferred' | 'error' | 'paused' | 'stopped';

export const TRAY_ICON_STATES: readonly TrayIconState[] = ['idle', 'sending', 'deferred', 'error', 'paused', 'stopped'];

/** Windows' small-icon size (16 px at 100 %) at each display scaling it offers from 100 to 300 %:
 *  100, 125, 150, 175, 200, 225, 250 and 300 %. */
export const TRAY_ICON_SIZES = [16, 20, 24, 28, 32, 36, 40, 48] as const;

export type Rgb = readonly [number, number, number];

/** Fill and glyph colour per state (Windows accent palette; dark glyph on amber for contrast). */
export const TRAY_COLORS: Readonly<Record<TrayIconState, { fill: Rgb; glyph: Rgb }>> = {
  idle: { fill: [0x10, 0x7c, 0x10], glyph: [0xff, 0xff, 0xff] },
  sending: { fill: [0x0f, 0x6c, 0xbd], glyph: [0xff, 0xff, 0xff] },
  deferred: { fill: [0xff, 0xb9, 0x00], glyph: [0x33, 0x29, 0x00] },
  error: { fill: [0xc4, 0x2b, 0x1c], glyph: [0xff, 0xff, 0xff] },
  paused: { fill: [0xc4, 0x2b, 0x1c], glyph: [0xff, 0xff, 0xff] },
  stopped: { fill: [0x6e, 0x6e, 0x6e], glyph: [0xff, 0xff, 0xff] },
};

/** The count pill: dark, so it stands out on every state colour (and unlike any glyph colour). */
export const BADGE_COLORS: Readonly<{ fill: Rgb; text: Rgb }> = { fill: [0x1b, 0x1b, 0x1b], text: [0xff, 0xff, 0xff] };

/** What the icon shows for a queue length: nothing for an empty queue, "1".."99", then "99+". */
export function countLabel(queued: number): string | null {
  if (!(queued >= 1)) return null;
  return queued > 99 ? '99+' : String(Math.floor(queued));
}

/** Integer scale of the count font at an icon size: the widest label ("99+") must fit in the pill. */
export function countFontScale(size: number): number {
  return Math.max(1, Math.floor(size / (textWidth('99+') + 2)));
}

export function renderTrayIcon(state: TrayIconState, queued: number, size: number): Buffer {
  const canvas = new Canvas(size);
  const { fill, glyph } = TRAY_COLORS[state];
  canvas.paint(roundedRect(0, 0, size, size, size * 0.1875), fill);
  drawGlyph(canvas, state, glyph);
  const label = countLabel(queued);
  if (label) drawCount(canvas, label);
  return PNG.sync.write(canvas.png);
}

export interface TrayIconImages {
  /** One PNG per DPI step (scale factor 1 = 16 px), for a multi-resolution NativeImage (macOS, Linux). */
  representations: { size: number; scaleFactor: number; png: Buffer }[];
  /** The same images as one .ico. On Windows the tray takes an icon of the small-icon size, which
   *  Electron loads at that size only from an .ico file; from any other image it stretches the 1x one. */
  ico: Buffer;
}

export function renderTrayIconSet(state: TrayIconState, queued: number): TrayIconImages {
  const representations = TRAY_ICON_SIZES.map((size) => ({ size, scaleFactor: size / 16, png: renderTrayIcon(state, queued, size) }));
  return { representations, ico: packIco(representations) };
}

function drawGlyph(canvas: Canvas, state: TrayIconState, color: Rgb): void {
  const s = canvas.size;
  const unit = Math.max(1, Math.round(s / 16));
  // Even bar widths on even sizes keep vertical bars on whole pixels (crisp, not blurred).
  const bar = 2 * unit;
  switch (state) {
    case 'error': {
      const x0 = (s - bar) / 2;
      canvas.paint(rect(x0, Math.round((s * 3) / 16), x0 + bar, Math.round((s * 10) / 16)), color);
      const dotTop = Math.round((s * 11) / 16);
      canvas.paint(rect(x0, dotTop, x0 + bar, dotTop + bar), color);
      return;
    }
    case 'paused': {
      const x0 = Math.round((s - 3 * bar) / 2);
      const top = Math.round((s * 4) / 16);
      canvas.paint(rect(x0, top, x0 + bar, s - top), color);
      canvas.paint(rect(x0 + 2 * bar, top, x0 + 3 * bar, s - top), color);
      return;
    }
    case 'stopped': {
      const side = Math.round((s * 6) / 16);
      const x0 = Math.round((s - side) / 2);
      canvas.paint(rect(x0, x0, x0 + side, x0 + side), color);
      return;
    }
    default: {
      // An envelope: outline plus the flap.
      const x0 = Math.round((s * 3) / 16);
      const y0 = Math.round((s * 4) / 16);
      const x1 = s - x0;
      const y1 = s - y0;
      canvas.paint(rect(x0, y0, x1, y0 + unit), color);
      canvas.paint(rect(x0, y1 - unit, x1, y1), color);
      canvas.paint(rect(x0, y0, x0 + unit, y1), color);
      canvas.paint(rect(x1 - unit, y0, x1, y1), color);
      const half = unit / 2;
      const apex: [number, number] = [s / 2, y0 + (y1 - y0) * 0.55];
      canvas.paint(segment([x0 + half, y0 + half], apex, unit), color);
      canvas.paint(segment([x1 - half, y0 + half], apex, unit), color);
    }
  }
}

function drawCount(canvas: Canvas, label: string): void {
  const s = canvas.size;
  const k = countFontScale(s);
  const height = (GLYPH_HEIGHT + 2) * k;
  const width = Math.max(height, (textWidth(label) + 2) * k);
  const x0 = s - width;
  const y0 = s - height;
  canvas.paint(roundedRect(x0, y0, s, s, height / 2), BADGE_COLORS.fill);
  const left = x0 + Math.floor((width - textWidth(label) * k) / 2);
  const top = y0 + k;
  forEachTextPixel(label, (x, y) => {
    canvas.paint(rect(left + x * k, top + y * k, left + (x + 1) * k, top + (y + 1) * k), BADGE_COLORS.text);
  });
}

// ---- a tiny rasteriser: shapes are inside-tests, painted with 4x4 supersampling ----

type Shape = { inside: (x: number, y: number) => boolean; box: [number, number, number, number] };

const SAMPLES = 4;

class Canvas {
  readonly png: PNG;

  constructor(readonly size: number) {
    this.png = new PNG({ width: size, height: size }); // zero-filled: fully transparent
  }

  /** Source-over compositing of `color` where the shape covers each pixel. */
  paint(shape: Shape, color: Rgb): void {
    const [bx0, by0, bx1, by1] = shape.box;
    const data = this.png.data;
    for (let py = Math.max(0, Math.floor(by0)); py < Math.min(this.size, Math.ceil(by1)); py++) {
      for (let px = Math.max(0, Math.floor(bx0)); px < Math.min(this.size, Math.ceil(bx1)); px++) {
        let hits = 0;
        for (let sy = 0; sy < SAMPLES; sy++) {
          for (let sx = 0; sx < SAMPLES; sx++) {
            if (shape.inside(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES)) hits++;
          }
        }
        if (hits === 0) continue;
        const a = hits / (SAMPLES * SAMPLES);
        const i = (py * this.size + px) * 4;
        const dstA = (data[i + 3] as number) / 255;
        const outA = a + dstA * (1 - a);
        for (let c = 0; c < 3; c++) {
          data[i + c] = Math.round((color[c] as number * a + (data[i + c] as number) * dstA * (1 - a)) / outA);
        }
        data[i + 3] = Math.round(outA * 255);
      }
    }
  }
}

function rect(x0: number, y0: number, x1: number, y1: number): Shape {
  return roundedRect(x0, y0, x1, y1, 0);
}

function roundedRect(x0: number, y0: number, x1: number, y1: number, r: number): Shape {
  return {
    box: [x0, y0, x1, y1],
    inside: (x, y) => {
      if (x < x0 || x >= x1 || y < y0 || y >= y1) return false;
      const cx = Math.min(Math.max(x, x0 + r), x1 - r);
      const cy = Math.min(Math.max(y, y0 + r), y1 - r);
      return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
    },
  };
}

/** A straight stroke of the given width between two points. */
function segment([ax, ay]: [number, number], [bx, by]: [number, number], width: number): Shape {
  const h = width / 2;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  return {
    box: [Math.min(ax, bx) - h, Math.min(ay, by) - h, Math.max(ax, bx) + h, Math.max(ay, by) + h],
    inside: (x, y) => {
      const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2));
      return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= h * h;
    },
  };
}
