// Packs PNG images into a Windows .ico (PNG-compressed entries, supported since Windows Vista), for
// the app and installer icon (build/icon.ico), drawn by the same function as the tray icon.

export interface IcoImage {
  /** Width and height in pixels, 1..256. */
  size: number;
  png: Buffer;
}

const HEADER = 6;
const ENTRY = 16;

export function packIco(images: readonly IcoImage[]): Buffer {
  if (images.length === 0 || images.length > 0xffff) throw new Error('an .ico holds 1 to 65535 images');
  const header = Buffer.alloc(HEADER + ENTRY * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    if (!Number.isInteger(size) || size < 1 || size > 256) throw new Error(`an .ico image must be 1 to 256 px, not ${size}`);
    const e = HEADER + ENTRY * i;
    header.writeUInt8(size % 256, e); // 0 means 256
    header.writeUInt8(size % 256, e + 1);
    header.writeUInt8(0, e + 2); // no palette
    header.writeUInt8(0, e + 3);
    header.writeUInt16LE(1, e + 4); // colour planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}
