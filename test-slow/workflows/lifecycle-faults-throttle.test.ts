import { describeLifecycleFaultMatrix } from '../../test/workflows/support';

// Every AWS call of each lifecycle workflow answered once with the service's throttling error.
describeLifecycleFaultMatrix('throttle', ['DeprovisionTenant', 'SuspendTenant', 'ResumeTenant', 'UpdateTenant']);
