// A form over one section of config.json (smarthost, listen): loads it, checks every change with the
// relay's own schema (validateConfig, so the rules are the ones the CLI and config.json get, worded
// with the window's labels), shows a field's message once the field has been left or Save pressed
// (not while the admin is still typing into an untouched form), and
// saves the whole config with only this section replaced. A change made elsewhere (another window, the
// command line, a hand edit of config.json) shows up here at once while the form is untouched, and a Save
// based on settings that have changed since is refused rather than silently undoing that change.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConfigIssue } from '../../src/api/contract.js';
import type { Config } from '../../src/config/schema.js';
import { fieldLabel, inWindowWords } from '../field-labels.js';
import { errorText } from '../format.js';

export type SectionKey = 'smarthost' | 'listen';

/** Messages by field path inside the section: "port", "auth.username", "allowedClients[1]". */
export type Issues = Record<string, string>;

/** Why the last save did not go through; `kept` when the relay saved the settings but could not apply them (a listen port that is taken). */
export interface SaveProblem {
  message: string;
  kept: boolean;
}

export interface ConfigSection<F> {
  form: F | null;
  saved: Config | null;
  dirty: boolean;
  /** The messages to show: for fields that have been left, or all of them after Save. */
  issues: Issues;
  /** For the page's container: a field left (focus moving out of it) shows its message from now on. */
  onBlur(event: { target: EventTarget | null }): void;
  loadError: string | null;
  saveError: SaveProblem | null;
  saving: boolean;
  /** When the last save succeeded; cleared by the next change. */
  savedAt: number | null;
  change(patch: Partial<F>): void;
  /** Resolves to the saved config, or null when refused or not applied (the issues or saveError say why). */
  save(): Promise<Config | null>;
  discard(): void;
}

/** The messages for `field` and anything inside it ("allowedClients" takes "allowedClients[1]"). */
export function issueFor(issues: Issues, field: string): string | undefined {
  const found = Object.entries(issues).filter(([path]) => covers(field, path));
  return found.length ? found.map(([, message]) => message).join(' ') : undefined;
}

function covers(field: string, path: string): boolean {
  return path === field || path.startsWith(`${field}[`) || path.startsWith(`${field}.`);
}

function sectionIssues(found: ConfigIssue[], key: SectionKey): Issues {
  const issues: Issues = {};
  for (const { field, message } of found) {
    if (!field.startsWith(`${key}.`)) continue;
    const path = field.slice(key.length + 1);
    // "must be at most 65535" becomes "Port must be at most 65535": the sentence stands on its own.
    const words = /^[a-z]/.test(message) ? `${fieldLabel(field)} ${inWindowWords(message, key)}` : inWindowWords(message, key);
    issues[path] = issues[path] ? `${issues[path]} ${words}` : words;
  }
  return issues;
}

const CHECK_DELAY_MS = 250;

/**
 * `toForm` and `toInput` must be stable (module-level). `toInput` may leave text where the schema wants
 * a number: the schema then names the field ("must be a number, not \"abc\"").
 */
export function useConfigSection<K extends SectionKey, F>(
  key: K,
  toForm: (section: Config[K]) => F,
  toInput: (form: F, saved: Config[K]) => unknown,
): ConfigSection<F> {
  const [saved, setSaved] = useState<Config | null>(null);
  const [form, setForm] = useState<F | null>(null);
  const [dirty, setDirty] = useState(false);
  const [issues, setIssues] = useState<Issues>({});
  // Fields left since the form was loaded or saved; `all` once Save has been pressed.
  const [left, setLeft] = useState<Set<string> | 'all'>(() => new Set());
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<SaveProblem | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const checks = useRef(0);
  const dirtyRef = useRef(false);
  dirtyRef.current = dirty;

  const merged = useCallback((f: F, c: Config) => ({ ...c, [key]: toInput(f, c[key]) }), [key, toInput]);

  const readConfig = useCallback(async (): Promise<Config> => {
    const c = await window.relay.getConfig();
    if (!c || typeof c !== 'object' || !c[key]) throw new Error('the relay sent no settings');
    return c;
  }, [key]);

  useEffect(() => {
    let live = true;
    readConfig().then(
      (c) => { if (live) { setSaved(c); setForm(toForm(c[key])); } },
      (e: unknown) => { if (live) setLoadError(errorText(e)); },
    );
    // The relay says when its configuration changes (configRevision): follow it unless the user is editing.
    let revision: string | null = null;
    // The revision of the settings loaded above (or newer: a change in between only costs a reload).
    window.relay.getStatus().then((st) => { revision ??= st.configRevision; }, () => {});
    const unsubscribe = window.relay.onStatus((status) => {
      const changed = revision !== null && status.configRevision !== revision;
      revision = status.configRevision;
      if (!changed || dirtyRef.current) return;
      readConfig().then((c) => { if (live && !dirtyRef.current) { setSaved(c); setForm(toForm(c[key])); } }, () => {});
    });
    return () => { live = false; unsubscribe(); };
  }, [key, readConfig, toForm]);

  useEffect(() => {
    if (!dirty || !form || !saved) return;
    const check = ++checks.current;
    const timer = setTimeout(() => {
      window.relay.validateConfig(merged(form, saved)).then(
        (found) => { if (check === checks.current) setIssues(sectionIssues(found, key)); },
        () => {}, // the check is a courtesy; Save asks again
      );
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [form, dirty, saved, key, merged]);

  const change = useCallback((patch: Partial<F>) => {
    setForm((f) => (f ? { ...f, ...patch } : f));
    setDirty(true);
    setSaveError(null);
    setSavedAt(null);
  }, []);

  const onBlur = useCallback((event: { target: EventTarget | null }) => {
    const field = event.target instanceof Element ? event.target.closest('[data-field]')?.getAttribute('data-field') : null;
    if (field) setLeft((l) => (l === 'all' || l.has(field) ? l : new Set(l).add(field)));
  }, []);

  const save = useCallback(async (): Promise<Config | null> => {
    if (!form) return null;
    setLeft('all');
    setSaving(true);
    setSaveError(null);
    const check = ++checks.current;
    try {
      // The newest config, so a change made meanwhile on another page (or by the CLI) is kept.
      const newest = await readConfig();
      if (saved && JSON.stringify(newest[key]) !== JSON.stringify(saved[key])) {
        setSaved(newest);
        setForm(toForm(newest[key]));
        setDirty(false);
        setSaveError({ message: 'These settings were changed elsewhere (another window, the command line or config.json) after this page loaded them, so your change was not saved. The page now shows the current settings: make your change again.', kept: false });
        return null;
      }
      const input = merged(form, newest);
      const found = await window.relay.validateConfig(input);
      const mine = sectionIssues(found, key);
      if (check === checks.current) setIssues(mine);
      if (found.length) {
        if (!Object.keys(mine).length) setSaveError({ message: found.map((i) => `${fieldLabel(i.field)}: ${inWindowWords(i.message)}`).join('\n'), kept: false });
        return null;
      }
      const result = await window.relay.setConfig(input);
      setSaved(result);
      setForm(toForm(result[key]));
      setDirty(false);
      setLeft(new Set());
      setSavedAt(Date.now());
      return result;
    } catch (e) {
      // The relay may have kept the change yet failed to apply it (a listen port that is taken).
      const now = await readConfig().catch(() => null);
      const kept = now !== null && JSON.stringify(toInput(form, now[key])) === JSON.stringify(toInput(toForm(now[key]), now[key]));
      if (now) setSaved(now);
      setDirty(!kept);
      setSaveError({ message: errorText(e), kept });
      return null;
    } finally {
      setSaving(false);
    }
  }, [form, key, merged, readConfig, saved, toForm, toInput]);

  const discard = useCallback(() => {
    if (!saved) return;
    ++checks.current;
    setForm(toForm(saved[key]));
    setDirty(false);
    setIssues({});
    setLeft(new Set());
    setSaveError(null);
  }, [saved, key, toForm]);

  const shown = left === 'all' ? issues : Object.fromEntries(Object.entries(issues).filter(([path]) => [...left].some((field) => covers(field, path))));
  return { form, saved, dirty, issues: shown, onBlur, loadError, saveError, saving, savedAt, change, save, discard };
}

/** A Fluent Field's validation props for `field`, and its name for the section's onBlur. */
export function validation(issues: Issues, field: string): { validationMessage?: string; validationState: 'error' | 'none'; 'data-field': string } {
  const message = issueFor(issues, field);
  return message ? { validationMessage: message, validationState: 'error', 'data-field': field } : { validationState: 'none', 'data-field': field };
}
