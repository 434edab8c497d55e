"""好差评: a rating for every served visit (一次一评) and every finished case (一事一评), and its figures."""
