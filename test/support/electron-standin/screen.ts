// screen: the display events electron/ listens to. The test changes a display's scale factor the way
// Windows does when the user picks another zoom, and the app's listener runs as under Electron.
import { EventEmitter } from 'node:events';
import { isReady, preventableEvent } from './app.js';
import { onCommand, state } from './state.js';
import type { Screen } from './types.js';

class StandinScreen extends EventEmitter {
  constructor() {
    super();
    super.on('newListener', (event: string) => { state.screen.listeners[event] = (state.screen.listeners[event] ?? 0) + 1; });
  }

  override on(event: string, listener: Parameters<EventEmitter['on']>[1]): this {
    // Electron: "The screen module cannot be used before the app module's ready event is emitted."
    if (!isReady()) throw new Error('screen cannot be used before the app is ready');
    return super.on(event, listener);
  }
}

const standinScreen = new StandinScreen();
export const screen: Screen = standinScreen;

onCommand('display-scale-changed', ({ scaleFactor }) => {
  const display = { id: 1, scaleFactor } as Electron.Display;
  standinScreen.emit('display-metrics-changed', preventableEvent(), display, ['scaleFactor']);
});
