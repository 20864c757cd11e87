import { describeLifecycleFaultMatrix } from './support';

describeLifecycleFaultMatrix('transient', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
