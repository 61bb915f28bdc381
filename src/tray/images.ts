// The committed images drawn by the tray icon's own function: the README's pictures of the states
// (on a light and a dark taskbar) and the app/installer icon. `npm run tray-images` writes them;
// test/tray-badge.test.ts fails when they no longer match the code.
import { PNG } from 'pngjs';
import { renderTrayIcon, TRAY_ICON_SIZES, type Rgb, type TrayIconState } from './badge.js';
import { packIco } from './ico.js';

/** Sizes in build/icon.ico: the small-icon DPI steps, then Explorer and installer sizes. */
export const APP_ICON_SIZES = [...TRAY_ICON_SIZES, 64, 256] as const;

/** The app icon is the tray icon at rest. */
export function renderAppIcon(): Buffer {
  return packIco(APP_ICON_SIZES.map((size) => ({ size, png: renderTrayIcon('idle', 0, size) })));
}

/** Repository path -> its content. */
export const COMMITTED_IMAGES: Readonly<Record<string, () => Buffer>> = {
  'docs/tray-states.png': () => renderTraySheet(32),
  'docs/tray-states-16px.png': () => renderTraySheet(16),
  'build/icon.ico': renderAppIcon,
};

/** The columns of the picture, left to right (the README's table names them in this order). */
export const SHEET_EXAMPLES: readonly { state: TrayIconState; queued: number }[] = [
  { state: 'idle', queued: 0 },
  { state: 'sending', queued: 3 },
  { state: 'deferred', queued: 12 },
  { state: 'error', queued: 100 },
  { state: 'paused', queued: 7 },
  { state: 'stopped', queued: 0 },
];

/** Windows 11 taskbar colours, light and dark theme. */
export const SHEET_BACKGROUNDS: readonly Rgb[] = [[0xf3, 0xf3, 0xf3], [0x20, 0x20, 0x20]];

const PAD = 8;

export function renderTraySheet(size = 32, examples = SHEET_EXAMPLES): Buffer {
  const cell = size + 2 * PAD;
  const sheet = new PNG({ width: cell * examples.length, height: cell * SHEET_BACKGROUNDS.length });
  SHEET_BACKGROUNDS.forEach((bg, row) => {
    for (let i = 0; i < sheet.width * cell; i++) {
      const o = (row * cell * sheet.width + i) * 4;
      sheet.data.set([...bg, 255], o);
    }
    examples.forEach(({ state, queued }, col) => {
      const icon = PNG.sync.read(renderTrayIcon(state, queued, size));
      blendOnto(sheet, icon, col * cell + PAD, row * cell + PAD);
    });
  });
  return PNG.sync.write(sheet);
}

function blendOnto(dst: PNG, src: PNG, left: number, top: number): void {
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < src.width; x++) {
      const s = (y * src.width + x) * 4;
      const d = ((top + y) * dst.width + left + x) * 4;
      const a = (src.data[s + 3] as number) / 255;
      for (let c = 0; c < 3; c++) {
        dst.data[d + c] = Math.round((src.data[s + c] as number) * a + (dst.data[d + c] as number) * (1 - a));
      }
    }
  }
}
