import { defineDataSuite } from './lib/data-suite.js';
import { defineRefreshTest } from './lib/refresh-suite.js';

defineDataSuite('v1.5.54');
defineRefreshTest('v1.5.54');
