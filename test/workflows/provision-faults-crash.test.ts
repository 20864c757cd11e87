import { describeFaultMatrix } from './fault-matrix';

describeFaultMatrix('crashAfterSuccess');
