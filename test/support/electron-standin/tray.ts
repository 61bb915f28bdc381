// Tray, Menu, nativeImage and Notification: they record what the app shows, and the test clicks
// the icon, a menu item (by label) or a notification the way a user would.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isReady, preventableEvent } from './app.js';
import type { ImageRepresentation, MenuItemState } from './control.js';
import { onCommand, state } from './state.js';
import type { Menu as MenuType, MenuStatic, NativeImage as NativeImageType, NativeImageStatic, Notification as NotificationType, NotificationStatic, Tray as TrayType, TrayConstructor } from './types.js';

// Each class is a value and a type in 'electron' (`new Tray(…)`, `tray: Tray | null`).
export type Menu = MenuType;
export type Tray = TrayType;
export type Notification = NotificationType;
export type NativeImage = NativeImageType;

class StandinNativeImage {
  readonly representations: ImageRepresentation[] = [];

  addRepresentation(options: Electron.AddRepresentationOptions): void {
    const png = options.buffer;
    // Width and height from the PNG's IHDR chunk; anything else is not a PNG this app would pass.
    if (!png || png.length < 24 || png.readUInt32BE(12) !== 0x49484452) throw new Error('addRepresentation: buffer is not a PNG');
    this.representations.push({
      scaleFactor: options.scaleFactor ?? 1, width: png.readUInt32BE(16), height: png.readUInt32BE(20), sha256: createHash('sha256').update(png).digest('hex'),
    });
  }

  isEmpty(): boolean {
    return this.representations.length === 0;
  }
}

export const nativeImage: NativeImageStatic = { createEmpty: () => new StandinNativeImage() };

interface StandinMenuItem extends MenuItemState { click?: Electron.MenuItemConstructorOptions['click'] }

class StandinMenu {
  readonly entries: StandinMenuItem[];

  constructor(entries: StandinMenuItem[]) {
    this.entries = entries;
  }

  /** Electron's MenuItem objects are not needed by the app; the recorded entries are what it built. */
  get items(): Electron.MenuItem[] {
    return this.entries as unknown as Electron.MenuItem[];
  }
}

export const Menu: MenuStatic = {
  buildFromTemplate(template: Electron.MenuItemConstructorOptions[]): MenuType {
    return new StandinMenu(template.map((t) => ({
      label: t.label ?? '', type: t.type ?? 'normal', enabled: t.enabled !== false, checked: t.checked === true, click: t.click,
    })));
  },
  setApplicationMenu(menu: MenuType | null): void {
    state.app.applicationMenu = menu ? (menu as StandinMenu).entries.map((e) => e.label) : null;
  },
};

// Electron also takes an image file's path; electron/tray.ts passes one (an .ico) on win32 only.
const IMAGE_ONLY = 'Tray: this stand-in runs on Linux, where the tray image must be a NativeImage (a file path is for win32)';

/** Trays in creation order; the app has one, the last one is what the test clicks. */
const trays: StandinTray[] = [];
const currentTray = (): StandinTray | undefined => trays.at(-1);

class StandinTray extends EventEmitter {
  private destroyed = false;
  menu: StandinMenu | null = null;

  constructor(image: NativeImageType | string) {
    super();
    if (!isReady()) throw new Error('Cannot create Tray before app is ready');
    if (!(image instanceof StandinNativeImage)) throw new TypeError(IMAGE_ONLY);
    trays.push(this);
    state.tray = { destroyed: false, tooltip: '', image: image.representations, imageChanges: 0, menu: null, clickListeners: 0 };
    this.on('newListener', (event: string) => { if (event === 'click' && state.tray) state.tray.clickListeners++; });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    this.destroyed = true;
    if (state.tray) state.tray.destroyed = true;
  }

  setImage(image: NativeImageType | string): void {
    if (!(image instanceof StandinNativeImage)) throw new TypeError(IMAGE_ONLY);
    if (state.tray) Object.assign(state.tray, { image: image.representations, imageChanges: state.tray.imageChanges + 1 });
  }

  setToolTip(text: string): void {
    if (state.tray) state.tray.tooltip = text;
  }

  setContextMenu(menu: MenuType | null): void {
    this.menu = menu as StandinMenu | null;
    if (state.tray) state.tray.menu = this.menu ? this.menu.entries.map(({ label, type, enabled, checked }) => ({ label, type, enabled, checked })) : null;
  }
}

export const Tray: TrayConstructor = StandinTray;

const notifications: StandinNotification[] = [];

class StandinNotification extends EventEmitter {
  private readonly index: number;

  constructor(options: Electron.NotificationConstructorOptions = {}) {
    super();
    this.index = state.notifications.push({ title: options.title ?? '', body: options.body ?? '', shown: false, clickListeners: 0 }) - 1;
    notifications.push(this);
    this.on('newListener', (event: string) => { if (event === 'click') (state.notifications[this.index] as { clickListeners: number }).clickListeners++; });
  }

  static isSupported(): boolean {
    return true;
  }

  show(): void {
    (state.notifications[this.index] as { shown: boolean }).shown = true;
  }

  close(): void {
    this.emit('close', preventableEvent());
  }
}

export const Notification: NotificationStatic = StandinNotification;

onCommand('click-tray', () => {
  const current = currentTray();
  if (!current || current.isDestroyed()) throw new Error('no tray icon');
  current.emit('click', preventableEvent(), { x: 0, y: 0, width: 16, height: 16 }, { x: 0, y: 0 });
});

onCommand('click-tray-menu', ({ label }) => {
  const menu = currentTray()?.menu;
  const item = menu?.entries.find((e) => e.label === label);
  if (!item) throw new Error(`the tray menu has no item "${label}" (it has: ${menu?.entries.map((e) => e.label).filter(Boolean).join(', ') ?? 'no menu'})`);
  if (!item.enabled) throw new Error(`"${label}" is disabled`);
  if (!item.click) throw new Error(`"${label}" does nothing when clicked (no click handler)`);
  if (item.type === 'checkbox') item.checked = !item.checked; // Electron flips it before calling click
  item.click(item as unknown as Electron.MenuItem, undefined, preventableEvent() as unknown as Electron.KeyboardEvent);
});

onCommand('click-notification', ({ index }) => {
  const n = notifications[index];
  if (!n) throw new Error(`no notification #${index}`);
  n.emit('click', preventableEvent());
});
