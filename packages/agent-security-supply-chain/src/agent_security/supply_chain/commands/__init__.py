"""Shell command governance: the vocabulary (:mod:`.model`), compiled rules (:mod:`.rules`), options that
run code or write (:mod:`.options`), wrappers (:mod:`.wrappers`), credential locations (:mod:`.credentials`)
and paths (:mod:`.paths`), the commands a tool call carries (:mod:`.calls`) and the governor
(:mod:`.governor`). The shell parser is :mod:`.shell`, its output :mod:`.words`."""
