#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step), so `npm install && npm start` is all a user needs.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
