import { describeFaultMatrix } from './fault-matrix';

describeFaultMatrix('transient');
