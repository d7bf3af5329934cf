package idex.cli;

import idex.exchange.delivery.DeliverySettings;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/** A duration option written the way people write them: `500ms`, `30s`, `2m`, `1h`, `5d`. */
public final class DurationOption implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return DeliverySettings.duration(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + value + "' is not a duration: write a number and ms, s, m, h or d,"
                    + " such as 30s.");
        }
    }
}
