// Loaded with `node --import` into a child_process.fork child: gives it Electron's process.parentPort
// (postMessage / on('message', e => e.data)), so src/host/utility-process.ts runs as in a utilityProcess.
process.parentPort = {
  postMessage: (message) => process.send(message),
  on: (event, listener) => process.on(event, (data) => listener({ data })),
};
