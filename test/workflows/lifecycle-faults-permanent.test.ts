import { describeLifecycleFaultMatrix } from './support';

describeLifecycleFaultMatrix('permanent', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
