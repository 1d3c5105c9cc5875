// The job queue's contract, owned by delivery/ and exported by delivery/index.ts: task names, job
// payloads and the one SQL fragment that enqueues a job. Constants only (no imports), so the
// benchmark's bare server can load otp/otp.statements.ts, which uses it, from dist/.
export * from './queue.contract.js';
