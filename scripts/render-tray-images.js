#!/usr/bin/env node
// Writes the committed images (docs/tray-states*.png, build/icon.ico) from the compiled code that
// draws the tray icon. Run through `npm run tray-images`, which compiles src/ first.
import fs from 'node:fs';
import path from 'node:path';
import { COMMITTED_IMAGES } from '../dist/tray/images.js';

const root = path.join(import.meta.dirname, '..');
for (const [file, render] of Object.entries(COMMITTED_IMAGES)) {
  const target = path.join(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, render());
  console.log(`wrote ${file}`);
}
