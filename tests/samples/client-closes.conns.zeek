#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	1970-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	tcplife_conn_id	tcplife_ending	tcplife_first_closer	tcplife_client_state	tcplife_server_state	tcplife_handshake_rtt
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count	string	string	string	string	interval
1795673993.902259	CxL6lFInexhRA72JPP	127.0.0.1	58677	127.0.0.1	42181	tcp	-	0.004087	0	12	SF	-	-	0	ShAdFf	5	268	3	176	-	1	closed normally	client	TIME-WAIT	CLOSED	0.000047
#close	1970-01-01-00-00-00
