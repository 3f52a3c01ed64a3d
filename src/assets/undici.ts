// The parts of undici kiab uses, named: a bundled dynamic import of undici itself (CommonJS) would give only
// its default export. Loaded on demand through http.ts.
export { Agent, interceptors, request, type Dispatcher } from 'undici';
