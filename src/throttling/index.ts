// throttling/'s public surface: the module and RequestLimits (per-IP limits, anti-pumping), and the
// one way a refused request is answered (refuse) for the limits counted elsewhere.
export * from './request-limits.service.js';
export * from './throttle-refusal.js';
export * from './throttling.module.js';
