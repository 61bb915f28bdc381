// Loaded with `node --import`: appends the URL of every module the process loads (ESM and CommonJS)
// to the file named by LOADED_MODULES_FILE, so a test can see what a configuration makes the relay load.
import fs from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.LOADED_MODULES_FILE;
const seen = new Set();
if (file) {
  registerHooks({
    load(url, context, next) {
      if (!seen.has(url)) {
        seen.add(url);
        fs.appendFileSync(file, `${url}\n`);
      }
      return next(url, context);
    },
  });
}
