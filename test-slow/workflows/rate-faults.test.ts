// The rate-fault scenarios not run by `npm test` (see test/workflows/rate-faults.ts).
import { describeRateFaults, RATE_SCENARIOS } from '../../test/workflows/rate-faults';

describeRateFaults(RATE_SCENARIOS.filter((s) => s.seed !== 6));
