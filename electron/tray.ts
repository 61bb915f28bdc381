// The TrayPort of src/tray/controller.ts with Electron's Tray, nativeImage, Menu and Notification.
// What to show and when is decided in src/tray/; this file only draws it.
import { Menu, Notification, Tray, nativeImage, screen, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { TrayIconImages, TrayPort } from '../src/tray/controller.js';
import { TrayIcoFile } from '../src/tray/ico-file.js';
import type { TrayAction, TrayMenuItem } from '../src/tray/model.js';
import type { Notice } from '../src/tray/notifications.js';

export interface ElectronTrayHandlers {
  onAction(action: TrayAction): void;
  /** Left click on the icon (Windows shows the menu on right click). */
  onClick(): void;
  onNotificationClick(notice: Notice): void;
}

export class ElectronTray implements TrayPort {
  // Held here for the app's lifetime: a Tray referenced only by a local variable is garbage-collected
  // and the icon disappears after a few minutes (Electron FAQ).
  private tray: Tray | null = null;
  // Likewise for notifications, whose click handler is lost if the object is collected first.
  private readonly notifications = new Set<Notification>();
  private readonly icoFile = new TrayIcoFile();
  private images: TrayIconImages | null = null;

  constructor(private readonly handlers: ElectronTrayHandlers) {}

  setIcon(images: TrayIconImages): void {
    this.images = images;
    const image = this.image(images);
    if (!this.tray) {
      this.tray = new Tray(image);
      this.tray.on('click', () => this.handlers.onClick());
      screen.on('display-metrics-changed', (_event, _display, changed) => {
        if (changed.includes('scaleFactor')) this.redraw();
      });
    } else if (!this.tray.isDestroyed()) {
      this.tray.setImage(image);
    }
  }

  /** Sets the icon again, so Windows loads it at the small-icon size of the display's new scale
   *  (it picks the size when the image is set). Done on every change of a display's scale. */
  redraw(): void {
    if (this.images) this.setIcon(this.images);
  }

  private image(images: TrayIconImages): NativeImage | string {
    // Windows: an .ico file path, from which Electron loads the size Windows asks for (see TrayIcoFile).
    if (process.platform === 'win32') {
      try {
        return this.icoFile.write(images.ico);
      } catch {
        // The temp folder cannot be written: a stretched icon is better than none.
      }
    }
    // Elsewhere: one representation per DPI step, and the platform picks.
    const image = nativeImage.createEmpty();
    for (const { scaleFactor, png } of images.representations) image.addRepresentation({ scaleFactor, buffer: png });
    return image;
  }

  setTooltip(text: string): void {
    if (this.tray && !this.tray.isDestroyed()) this.tray.setToolTip(text);
  }

  setMenu(items: TrayMenuItem[]): void {
    if (this.tray && !this.tray.isDestroyed()) this.tray.setContextMenu(Menu.buildFromTemplate(items.map((i) => this.menuItem(i))));
  }

  notify(notice: Notice): void {
    if (!Notification.isSupported()) return;
    const n = new Notification({ title: notice.title, body: notice.body });
    this.notifications.add(n);
    n.on('click', () => this.handlers.onNotificationClick(notice));
    n.on('close', () => this.notifications.delete(n));
    n.show();
  }

  private menuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'separator': return { type: 'separator' };
      case 'info': return { label: item.label, enabled: false };
      case 'action': return { label: item.label, enabled: item.enabled, click: () => this.handlers.onAction(item.action) };
      case 'checkbox':
        return { type: 'checkbox', label: item.label, checked: item.checked, enabled: item.enabled, click: () => this.handlers.onAction(item.action) };
    }
  }
}
