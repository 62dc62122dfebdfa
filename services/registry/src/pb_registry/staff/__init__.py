"""Staff users: the people of the provincial office and the prefectures, who sign in to the console."""
