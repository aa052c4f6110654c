import { defineDataSuite } from './lib/data-suite.js';

defineDataSuite('v1.5.54');
