import { describeLifecycleFaultMatrix } from './support';

describeLifecycleFaultMatrix('crashAfterSuccess', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
