// The queue's two dialogs: a message's headers, and "delete this message?".
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, makeStyles, Spinner, Text, tokens,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { QueueItem } from '../../../src/api/contract.js';
import { AdviceBar } from '../../components/AdviceBar.js';
import { errorText } from '../../format.js';

const useStyles = makeStyles({
  headers: {
    margin: 0, padding: tokens.spacingHorizontalS, fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200,
    background: tokens.colorNeutralBackground3, borderRadius: tokens.borderRadiusMedium, whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere', maxHeight: '50vh', overflowY: 'auto',
  },
});

export function HeadersDialog({ item, onClose }: { item: QueueItem | null; onClose(): void }) {
  const styles = useStyles();
  const [headers, setHeaders] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setHeaders(null);
    setError(null);
    if (!item) return;
    let live = true;
    window.relay.getMessage(item.id).then(
      (m) => { if (live) setHeaders(m.headers); },
      (e: unknown) => { if (live) setError(errorText(e)); },
    );
    return () => { live = false; };
  }, [item]);
  return (
    <Dialog open={item !== null} onOpenChange={(_, d) => { if (!d.open) onClose(); }}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Message headers</DialogTitle>
          <DialogContent>
            {error && <AdviceBar title="The headers could not be read" message={error} />}
            {!error && headers === null && <Spinner size="tiny" label="Reading…" />}
            {headers !== null && <pre className={styles.headers} tabIndex={0} aria-label="Headers">{headers}</pre>}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" onClick={onClose}>Close</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

export function DeleteDialog({ count, onCancel, onConfirm }: { count: number; onCancel(): void; onConfirm(): void }) {
  return (
    <Dialog open={count > 0} modalType="alert" onOpenChange={(_, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Delete {count === 1 ? 'this message' : `these ${count} messages`}?</DialogTitle>
          <DialogContent>
            <Text>
              {count === 1 ? 'It' : 'They'} will not be delivered, and the sender is not told. This cannot be undone.
            </Text>
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" onClick={onConfirm}>Delete</Button>
            <Button onClick={onCancel}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
