package io.vmsched.balance;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.*;

class BalanceConfigTest
{
    @Test
    void theThresholdAndMinimumGainGrowAsAPowerOfTheClusterSize()
    {
        final BalanceConfig config = new BalanceConfig();
        config.thresholdFraction = 0.25;
        config.minGainFraction = 0.10;
        assertEquals(1.0, config.sizeScale(10_000), "exponent 0: fixed whatever the size");

        config.sizeExponent = 0.4;
        config.referenceHosts = 100;
        assertEquals(1.0, config.sizeScale(100), 1e-12);
        assertEquals(Math.pow(4, 0.4), config.sizeScale(400), 1e-12);
        assertEquals(Math.pow(0.25, 0.4), config.sizeScale(25), 1e-12, "a smaller cluster asks less of each move");

        final BalanceConfig on400 = config.forHosts(400);
        assertEquals(0.25 * Math.pow(4, 0.4), on400.thresholdFraction, 1e-12);
        assertEquals(0.10 * Math.pow(4, 0.4), on400.minGainFraction, 1e-12);
        assertEquals(0.0, on400.sizeExponent, "applied once: scaling the copy again changes nothing");
        assertEquals(on400.thresholdFraction, on400.forHosts(10).thresholdFraction);
        assertEquals(0.25, config.thresholdFraction, "the original is unchanged");
        assertEquals(0.4, config.sizeExponent);
    }

    @Test
    void aCopyCarriesEverySetting() throws IllegalAccessException
    {
        // set every public field to something other than its default, so a field copy() forgets fails here
        final BalanceConfig config = new BalanceConfig();
        final BalanceConfig defaults = new BalanceConfig();
        int n = 2;
        for (final Field field : BalanceConfig.class.getFields())
        {
            if (Modifier.isStatic(field.getModifiers()))
            {
                continue;
            }
            n++;
            if (field.getType() == double.class)
            {
                field.setDouble(config, 1000.5 + n);
            }
            else if (field.getType() == int.class)
            {
                field.setInt(config, 1000 + n);
            }
            else if (field.getType() == boolean.class)
            {
                field.setBoolean(config, !field.getBoolean(defaults));
            }
            else if (field.getType() == BalanceConfig.PeerView.class)
            {
                field.set(config, BalanceConfig.PeerView.GLOBAL);
            }
            else
            {
                fail("a setting of a type this test does not know: " + field);
            }
        }
        final BalanceConfig copy = config.copy();
        for (final Field field : BalanceConfig.class.getFields())
        {
            if (!Modifier.isStatic(field.getModifiers()))
            {
                assertEquals(field.get(config), field.get(copy), field.getName());
                assertNotEquals(field.get(defaults), field.get(copy), field.getName() + " left at its default");
            }
        }
    }

    @Test
    void badSizeSettingsAreNamed()
    {
        final BalanceConfig config = new BalanceConfig();
        config.sizeExponent = -0.5;
        final IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, config::validate);
        assertEquals("balancer size exponent out of range: -0.5", negative.getMessage());
        config.sizeExponent = 0.4;
        config.referenceHosts = 0;
        final IllegalArgumentException none = assertThrows(IllegalArgumentException.class, config::validate);
        assertEquals("balancer reference hosts out of range: 0.0", none.getMessage());
    }
}
