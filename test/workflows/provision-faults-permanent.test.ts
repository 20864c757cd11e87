import { describeFaultMatrix } from './fault-matrix';

describeFaultMatrix('permanent');
