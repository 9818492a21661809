#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	1970-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	tcplife_conn_id	tcplife_ending	tcplife_first_closer	tcplife_client_state	tcplife_server_state	tcplife_handshake_rtt
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count	string	string	string	string	interval
1795673998.650383	CgLRMBfB78nB3pNFec	127.0.0.1	35131	127.0.0.1	42181	tcp	-	0.001150	0	12	RSTO	-	-	0	ShAdR	4	216	2	124	-	1	reset by client	client	CLOSED	CLOSED	0.000036
#close	1970-01-01-00-00-00
