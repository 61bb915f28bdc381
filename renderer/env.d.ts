// window.relay is provided by electron/preload.ts (and by the browser tests' HTTP bridge).
import type { RelayApi } from '../src/api/contract.js';

declare global {
  interface Window {
    readonly relay: RelayApi;
  }
}
