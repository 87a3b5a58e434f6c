package io.sealstream.keybroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Rate limits count IPv4 addresses one by one and IPv6 hosts by their /64. */
class SourceRateLimitsTest {

    @Test
    void addressesOfOneIpv6Slash64ShareABucket() throws Exception {
        SourceRateLimits limits = new SourceRateLimits(1); // bursts of 2
        long now = 0;

        assertThat(limits.take(SourceRateLimits.sourceOf(InetAddress.getByName("2001:db8:1:2::1")), now)).isZero();
        assertThat(limits.take(SourceRateLimits.sourceOf(InetAddress.getByName("2001:db8:1:2::2")), now)).isZero();

        assertThat(limits.take(SourceRateLimits.sourceOf(InetAddress.getByName("2001:db8:1:2:ffff::3")), now))
                .as("a third address in the same /64").isPositive();
        assertThat(limits.take(SourceRateLimits.sourceOf(InetAddress.getByName("2001:db8:1:3::1")), now))
                .as("another /64").isZero();
    }

    @Test
    void ipv4AddressesAndIpv4MappedOnesCountOneByOne() throws Exception {
        assertThat(SourceRateLimits.sourceOf(InetAddress.getByName("10.0.0.1")))
                .isNotEqualTo(SourceRateLimits.sourceOf(InetAddress.getByName("10.0.0.2")));
        assertThat(SourceRateLimits.sourceOf(InetAddress.getByName("::ffff:10.0.0.1"))).isEqualTo("10.0.0.1");
    }
}
