export { startWorker, runWorkerProcess, type RunningWorker } from './worker-process.js';
