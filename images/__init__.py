"""The appliance image build (installed as sanappliance.images): Debian trixie root, lab image and live ISO."""
