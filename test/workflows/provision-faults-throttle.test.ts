import { describeFaultMatrix } from './fault-matrix';

// Each call answered once with the service's own throttling error (RequestLimitExceeded,
// ThrottlingException, Throttling...): the ASL's ThrottledError retry must absorb it.
describeFaultMatrix('throttle');
