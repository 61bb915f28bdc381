// `node --import <this file>`: installs the resolve hook (hooks.ts) before the app's first import.
import { register } from 'node:module';

register('./hooks.ts', import.meta.url);
