import { defineDataSuite } from './lib/data-suite.js';
import { defineRefreshTest } from './lib/refresh-suite.js';

defineDataSuite('v1.5.48');
defineRefreshTest('v1.5.48');
