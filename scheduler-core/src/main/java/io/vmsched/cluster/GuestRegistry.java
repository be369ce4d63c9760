package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.guest.CpuBurnerGuest;
import io.vmsched.guest.MemoryHolderGuest;
import io.vmsched.guest.PacedBurnerGuest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Makes empty guests by kind ({@link Guest#kind()}), for a host that receives a migrating VM or
 * recovers one from its journal and then restores the VM's state into it. A kind not registered is
 * tried as the name of a class with a public no-argument constructor.
 * <p>
 * Threadsafe.
 */
public final class GuestRegistry
{
    private final Map<String, Supplier<Guest>> factories = new ConcurrentHashMap<>();

    /** @return a registry that knows the shipped guests (CPU burner, paced burner, memory holder, buffer pool). */
    public static GuestRegistry withDefaults()
    {
        final GuestRegistry registry = new GuestRegistry();
        registry.register(PacedBurnerGuest.KIND, PacedBurnerGuest::new);
        registry.register(CpuBurnerGuest.class.getName(), () -> new CpuBurnerGuest(0));
        registry.register(MemoryHolderGuest.class.getName(), () -> new MemoryHolderGuest(0));
        registry.register(io.vmsched.guest.IdleGuest.class.getName(), io.vmsched.guest.IdleGuest::new);
        registry.register(io.vmsched.guest.BufferPoolGuest.class.getName(), io.vmsched.guest.BufferPoolGuest::new);
        return registry;
    }

    /**
     * @param kind    the kind's name.
     * @param factory makes an empty guest of that kind.
     * @return this.
     */
    public GuestRegistry register(final String kind, final Supplier<Guest> factory)
    {
        factories.put(kind, factory);
        return this;
    }

    /**
     * Make a guest of a kind and restore a state into it.
     *
     * @param kind  the kind's name.
     * @param state its state, from {@link Guest#snapshot()}.
     * @return the guest.
     * @throws IllegalArgumentException if the kind is unknown or the state does not fit it.
     */
    public Guest create(final String kind, final byte[] state)
    {
        final Supplier<Guest> factory = factories.get(kind);
        final Guest guest;
        if (factory != null)
        {
            guest = factory.get();
        }
        else
        {
            try
            {
                final Class<?> type = Class.forName(kind);
                if (!Guest.class.isAssignableFrom(type))
                {
                    throw new IllegalArgumentException("guest kind '" + kind + "' is a class that is not a Guest");
                }
                guest = (Guest)type.getConstructor().newInstance();
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new IllegalArgumentException("unknown guest kind '" + kind + "': register a factory for it " +
                    "or give the class a public no-argument constructor", ex);
            }
        }
        guest.restore(state);
        return guest;
    }
}
