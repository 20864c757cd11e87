// One rate-fault scenario in `npm test`: every AWS and DynamoDB call attempt at 15 %; the other
// scenarios (each DynamoDB fault kind alone, 5 %, more seeds) run in the slow suite.
import { describeRateFaults, RATE_SCENARIOS } from './rate-faults';

describeRateFaults(RATE_SCENARIOS.filter((s) => s.seed === 6));
