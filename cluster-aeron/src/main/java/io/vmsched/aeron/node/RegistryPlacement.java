package io.vmsched.aeron.node;

import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryException;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.aeron.registry.RegistryStatusReport;
import io.vmsched.cluster.PlacementAuthority;
import io.vmsched.placement.StatusReport;

import java.util.List;

/**
 * A node's {@link PlacementAuthority}: its registry. Changes go to the registry as one PLACE each, run on the
 * registry thread that owns the node's client ({@link RegistryOwners#call}).
 * <p>
 * Threading: any thread; calls block until the registry answered.
 */
final class RegistryPlacement implements PlacementAuthority
{
    private final RegistryOwners owners;
    private final RegistryClient client;

    RegistryPlacement(final RegistryOwners owners, final RegistryClient client)
    {
        this.owners = owners;
        this.client = client;
    }

    @Override
    public void submit(final List<String> statements)
    {
        try
        {
            owners.call(() -> client.place(statements));
        }
        catch (final RegistryException ex)
        {
            if (RegistryStatus.REFUSED == ex.status())
            {
                throw new IllegalArgumentException(ex.getMessage());
            }
            throw ex;
        }
    }

    @Override
    public List<String> statements()
    {
        return owners.call(client::placement).statements();
    }

    @Override
    public StatusReport status()
    {
        return owners.call(() -> RegistryStatusReport.read(client));
    }
}
