"""The shapes of what comes in and goes out (pydantic), the only validation in the app; and the
lecture presets, which are SessionConfigs."""
