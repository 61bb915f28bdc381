// Packs images into a Windows .ico: the tray icon (Electron's Tray loads the size Windows asks for only
// from an .ico file) and the app and installer icon (build/icon.ico), drawn by the same function.
// Sizes below 256 px are stored as 32-bit BMPs with alpha, the form every Windows icon loader reads;
// 256 px as PNG (Windows Vista and later), which keeps the file small.
import { PNG } from 'pngjs';

export interface IcoImage {
  /** Width and height in pixels, 1..256. */
  size: number;
  png: Buffer;
}

const HEADER = 6;
const ENTRY = 16;
const BITMAPINFOHEADER = 40;

export function packIco(images: readonly IcoImage[]): Buffer {
  if (images.length === 0 || images.length > 0xffff) throw new Error('an .ico holds 1 to 65535 images');
  const header = Buffer.alloc(HEADER + ENTRY * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  const bodies = images.map(({ size, png }, i) => {
    if (!Number.isInteger(size) || size < 1 || size > 256) throw new Error(`an .ico image must be 1 to 256 px, not ${size}`);
    const body = size === 256 ? png : bmp32(PNG.sync.read(png), size);
    const e = HEADER + ENTRY * i;
    header.writeUInt8(size % 256, e); // 0 means 256
    header.writeUInt8(size % 256, e + 1);
    header.writeUInt8(0, e + 2); // no palette
    header.writeUInt8(0, e + 3);
    header.writeUInt16LE(1, e + 4); // colour planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(body.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += body.length;
    return body;
  });
  return Buffer.concat([header, ...bodies]);
}

/**
 * An icon image as a BMP without its file header: BITMAPINFOHEADER (height doubled: colour rows, then
 * the mask's), BGRA rows bottom-up with straight alpha, then the 1-bit AND mask, set where the icon
 * is fully transparent (rows padded to 32 bits), for loaders that ignore the alpha channel.
 */
function bmp32(image: PNG, size: number): Buffer {
  if (image.width !== size || image.height !== size) throw new Error(`an .ico entry of ${size} px holds a ${image.width}×${image.height} image`);
  const maskRow = Math.ceil(size / 32) * 4;
  const out = Buffer.alloc(BITMAPINFOHEADER + size * size * 4 + maskRow * size);
  out.writeUInt32LE(BITMAPINFOHEADER, 0);
  out.writeInt32LE(size, 4);
  out.writeInt32LE(2 * size, 8);
  out.writeUInt16LE(1, 12); // planes
  out.writeUInt16LE(32, 14); // bits per pixel
  out.writeUInt32LE(0, 16); // BI_RGB
  out.writeUInt32LE(out.length - BITMAPINFOHEADER, 20);
  const mask = BITMAPINFOHEADER + size * size * 4;
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y; // bottom-up
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = image.data.subarray((y * size + x) * 4, (y * size + x) * 4 + 4);
      out.set([b as number, g as number, r as number, a as number], BITMAPINFOHEADER + (row * size + x) * 4);
      if (a === 0) out[mask + row * maskRow + (x >> 3)] = (out[mask + row * maskRow + (x >> 3)] as number) | (0x80 >> (x & 7));
    }
  }
  return out;
}
