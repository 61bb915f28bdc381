// What `smtp-relay service …` does, whichever service manager the platform has.
export interface ServiceHost {
  /** Installs (and, when start is true, starts) the service; says each step. */
  install(start: boolean, say: (line: string) => void): Promise<void>;
  /** Stops and removes the service; keeps the data directory. */
  uninstall(say: (line: string) => void): Promise<void>;
  start(say: (line: string) => void): Promise<void>;
  stop(say: (line: string) => void): Promise<void>;
  status(): Promise<{ running: boolean; text: string }>;
}
