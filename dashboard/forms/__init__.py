"""Forms by area: shape and basic validation of input; the services decide the rest."""
