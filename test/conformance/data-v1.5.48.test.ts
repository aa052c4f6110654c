import { defineDataSuite } from './lib/data-suite.js';

// Strict for feeds that declare claircore-v1.5.48 rules; the others are printed as skipped.
defineDataSuite('v1.5.48');
