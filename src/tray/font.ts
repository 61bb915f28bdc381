// A 3x5 pixel font for the queue count on the tray icon. Drawn by hand rather than rasterising a
// system font: at 16 px a TrueType "9" turns to grey mush, and the main process has no canvas.

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;
/** Blank columns between two glyphs, in font pixels. */
export const GLYPH_SPACING = 1;

const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  '0': ['###', '#.#', '#.#', '#.#', '###'],
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '2': ['###', '..#', '###', '#..', '###'],
  '3': ['###', '..#', '###', '..#', '###'],
  '4': ['#.#', '#.#', '###', '..#', '..#'],
  '5': ['###', '#..', '###', '..#', '###'],
  '6': ['###', '#..', '###', '#.#', '###'],
  '7': ['###', '..#', '.#.', '.#.', '.#.'],
  '8': ['###', '#.#', '###', '#.#', '###'],
  '9': ['###', '#.#', '###', '..#', '###'],
  '+': ['...', '.#.', '###', '.#.', '...'],
};

/** Width of `text` in font pixels (before scaling). */
export function textWidth(text: string): number {
  return text.length === 0 ? 0 : text.length * GLYPH_WIDTH + (text.length - 1) * GLYPH_SPACING;
}

/**
 * Calls `plot(x, y)` for every lit font pixel of `text`, x/y in font pixels from the top-left of the
 * text. Throws on a character the font does not have, so a new label cannot silently draw blank.
 */
export function forEachTextPixel(text: string, plot: (x: number, y: number) => void): void {
  [...text].forEach((ch, i) => {
    const glyph = GLYPHS[ch];
    if (!glyph) throw new Error(`the tray font has no glyph for ${JSON.stringify(ch)}`);
    const left = i * (GLYPH_WIDTH + GLYPH_SPACING);
    glyph.forEach((row, y) => {
      for (let x = 0; x < GLYPH_WIDTH; x++) if (row[x] === '#') plot(left + x, y);
    });
  });
}
